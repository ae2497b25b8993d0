"""Reading a Prometheus text exposition back into numbers, as Prometheus would."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, frozenset[tuple[str, str]]]


def samples(exposition: str | bytes) -> dict[Key, float]:
    """Every sample of an exposition, keyed by name and labels."""
    text = exposition.decode() if isinstance(exposition, bytes) else exposition
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[Key, float], name: str, **labels: str) -> float:
    """One sample's value; KeyError when the series is not exported at all."""
    return found[(name, frozenset(labels.items()))]


def delta(before: dict[Key, float], after: dict[Key, float], name: str, **labels: str) -> float:
    """How far a counter moved between two scrapes (a series new in ``after`` started at 0)."""
    key = (name, frozenset(labels.items()))
    return after[key] - before.get(key, 0.0)


def series(found: dict[Key, float], name: str) -> dict[frozenset[tuple[str, str]], float]:
    """All series of one metric, by labels."""
    return {labels: number for (sample, labels), number in found.items() if sample == name}
