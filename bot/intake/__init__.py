"""HTTP intake: helpdesk webhooks become TicketClosed events and pending surveys."""
