"""The state on disk: TinyDB in one JSON file, written atomically, one writer at a time.

Why it is built this way (figures in ../shared/reference/dependencies.md section 3), module by module:
- storage.py: the TinyDB storage that replaces the file atomically, and the shape checks that make
  an empty or malformed state file an error naming it, never silently a fresh state.
- layout.py: hot state in the TinyDB file, history in append-only logs (logfile.py), issue 14.
- view.py, transaction.py: reading one consistent snapshot; a writer's batch committed at once.
- records.py: the schema: which table holds which typed record of model.py (`OutboxRecord`,
  `RotationWeek`, `Snooze`) and the meta keys `Health` is made of; `Snapshot` is one read of all.
- folder.py: the state folder (trusted only if no one else may write it), the lock, the views.
- health.py: the last error and the last sync, kept where a full disk cannot hide them.
- holidays.py: the holiday cache `STATE_DIR/holidays.json`.
Callers outside this package see `Ticket`s and the typed records, never TinyDB, a table or a meta key.
"""
from maildaemon.errors import StoreError
from maildaemon.store.folder import Store
from maildaemon.store.holidays import HolidayFile
from maildaemon.store.layout import ARCHIVE_AFTER, LOG_DIR, LOGS
from maildaemon.store.storage import DB_NAME, shape_problem
from maildaemon.store.transaction import Transaction
from maildaemon.store.view import View

__all__ = ["ARCHIVE_AFTER", "DB_NAME", "LOGS", "LOG_DIR", "HolidayFile", "Store", "StoreError", "Transaction",
           "View", "shape_problem"]
