"""Data drift: the job a DriftMonitor's CronJob runs (:mod:`.job`, needs the ``drift`` extra) and
the metric names it exports (:mod:`.metrics`, no dependencies), which the DriftMonitor's alert rules,
the dashboards and any other code import instead of spelling them again."""
