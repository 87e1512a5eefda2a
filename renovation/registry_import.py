def template_workbook_bytes() -> bytes:
    raise NotImplementedError
