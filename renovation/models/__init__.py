from .funding import Disbursement, FundingAllocation, FundingSource
from .projects import (
    ItemCategory,
    ProgressUpdate,
    ProjectItem,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
)
from .registry import (
    OLD_COMPOUND_LAST_YEAR,
    Building,
    Community,
    Compound,
    District,
    Role,
    StaffProfile,
    SubDistrict,
)
from .reports import MonthlyReport

__all__ = [
    "OLD_COMPOUND_LAST_YEAR",
    "Building",
    "Community",
    "Compound",
    "Disbursement",
    "District",
    "FundingAllocation",
    "FundingSource",
    "ItemCategory",
    "MonthlyReport",
    "ProgressUpdate",
    "ProjectItem",
    "ProjectStatus",
    "ProjectTransition",
    "RenovationProject",
    "Role",
    "StaffProfile",
    "SubDistrict",
]
