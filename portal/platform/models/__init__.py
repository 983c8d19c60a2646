"""Models of the platform area. Importing this package registers them with SQLAlchemy."""

from portal.platform.models.dashboard_count import DashboardCount
from portal.platform.models.job import JobLease, JobRun, RunStatus
from portal.platform.models.plugin_setting import PluginSetting
from portal.platform.models.report_figures import ReportFigures
from portal.platform.models.setting import Setting
from portal.platform.models.settings_version import SettingsVersion

__all__ = [
    "DashboardCount",
    "JobLease",
    "JobRun",
    "PluginSetting",
    "ReportFigures",
    "RunStatus",
    "Setting",
    "SettingsVersion",
]
