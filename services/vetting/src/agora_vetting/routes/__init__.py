"""HTTP routes of vetting: the admins' queue and decisions, submissions, the scan task handler."""
