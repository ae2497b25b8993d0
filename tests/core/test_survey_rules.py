"""Who may press a survey's buttons."""

from datetime import UTC, datetime, timedelta

from bot.core.survey import SurveyStatus, SurveyView, press_rejection

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
OPEN = SurveyView(survey_id=1, status=SurveyStatus.SENT, client_user_id=10, message_id=99)


def test_own_client_on_own_message_may_answer() -> None:
    assert press_rejection(OPEN, presser_id=10, message_id=99, now=NOW) is None


def test_someone_else_or_another_message_changes_nothing() -> None:
    assert press_rejection(OPEN, presser_id=11, message_id=99, now=NOW) == "not_yours"
    assert press_rejection(OPEN, presser_id=10, message_id=98, now=NOW) == "unknown"


def test_press_before_the_delivery_is_recorded_counts() -> None:
    queued = SurveyView(1, SurveyStatus.QUEUED, client_user_id=10, message_id=None)
    assert press_rejection(queued, presser_id=10, message_id=99, now=NOW) is None
    assert press_rejection(queued, presser_id=11, message_id=99, now=NOW) == "not_yours"
    pending = SurveyView(1, SurveyStatus.PENDING, client_user_id=10, message_id=None)
    assert press_rejection(pending, presser_id=10, message_id=99, now=NOW) == "already_answered"


def test_second_press_and_unknown_survey() -> None:
    answered = SurveyView(1, SurveyStatus.ANSWERED, 10, 99)
    assert press_rejection(answered, presser_id=10, message_id=99, now=NOW) == "already_answered"
    assert press_rejection(None, presser_id=10, message_id=99, now=NOW) == "unknown"


def test_a_press_after_the_lifetime_is_refused_even_before_the_sweep_marks_it() -> None:
    ends = NOW + timedelta(days=7)
    view = SurveyView(1, SurveyStatus.SENT, client_user_id=10, message_id=99, expires_at=ends)
    assert (
        press_rejection(view, presser_id=10, message_id=99, now=ends - timedelta(seconds=1)) is None
    )
    assert press_rejection(view, presser_id=10, message_id=99, now=ends) == "expired"
