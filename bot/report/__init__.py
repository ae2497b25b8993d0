"""Reports for managers: the weekly NPS digest, computed with pandas and rendered for Telegram."""
