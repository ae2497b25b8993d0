"""Data care: retention (``npsbot purge``) and importing past answers (``npsbot import``)."""
