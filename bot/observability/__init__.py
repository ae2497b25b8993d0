"""What an operator can see of a running process: readiness, Prometheus metrics, JSON logs.

Counting is kept off the hot paths' cost: the parts of the app report through the seams they
already have (intake results, answer listeners, the outbox's recorded results, the Bot API
transport), and a report is a counter increment. Gauges that need the database are read at
scrape time, not per event.
"""
