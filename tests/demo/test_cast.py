"""The demo's cast: the same clients for the same seed, and the mix a support team sees."""

from __future__ import annotations

import pytest

from bot.core.nps import Category
from bot.demo.cast import band_counts, make_cast


def test_the_same_seed_gives_the_same_clients_and_another_seed_others() -> None:
    assert make_cast(30, seed=7) == make_cast(30, seed=7)
    assert make_cast(30, seed=7) != make_cast(30, seed=8)


@pytest.mark.parametrize("count", [1, 2, 3, 6, 30, 200])
def test_the_mix_has_every_band_in_fixed_shares(count: int) -> None:
    cast = make_cast(count, seed=1)
    counts = band_counts(count)
    assert sum(counts.values()) == count
    assert [sum(1 for c in cast if c.category is band) for band in counts] == list(counts.values())
    if count >= 3:
        assert all(counts[band] >= 1 for band in Category)
    assert len({c.user_id for c in cast}) == len({c.ticket_id for c in cast}) == count


def test_thirty_clients_keep_the_managers_chat_under_telegrams_group_limit() -> None:
    # Each detractor costs the managers' chat two messages (alert, then its comment), the
    # resolved case five edits and the digest three: 20 a minute is Telegram's group limit.
    detractors = band_counts(30)[Category.DETRACTOR]
    assert 2 * detractors + 5 + 3 <= 20


def test_some_comment_and_some_skip_some_open_the_deep_link() -> None:
    cast = make_cast(30, seed=1)
    assert {c.comment is None for c in cast} == {True, False}
    assert {c.via_link for c in cast} == {True, False}
    assert {c.language for c in cast} == {"en", "ru"}


def test_no_clients_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one client"):
        make_cast(0, seed=1)
