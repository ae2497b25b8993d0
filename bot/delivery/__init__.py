"""Outbound Telegram traffic: the outbox dispatcher, flood limits and the error policy."""
