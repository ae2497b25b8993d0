"""The managers' side: detractor alerts and the weekly digest."""
