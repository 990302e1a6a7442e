"""HRMS (seed 002): the HR system of record, read-only; an audit source or the source of
truth for employees and departments.

`provider` reads and audits it; `source` says which fields it owns as the source of
truth; `importer` turns it into configuration; `seeding` writes the sandbox emulator's
seed for an org.
"""

from orgctl.providers.hrms.provider import (
    PAGE_SIZE,
    HrmsDepartment,
    HrmsPosition,
    HrmsProvider,
    HrmsUser,
    org_from_hrms,
)

__all__ = ["PAGE_SIZE", "HrmsDepartment", "HrmsPosition", "HrmsProvider", "HrmsUser",
           "org_from_hrms"]
