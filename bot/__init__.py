"""npsbot: Net Promoter Score surveys in Telegram after every closed support ticket."""

__version__ = "0.1.0"
