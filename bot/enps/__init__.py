"""Employee NPS: campaigns that survey a team on a schedule and report only anonymous totals."""
