"""Phone numbers to E.164: national forms in the configured region, and "00" or "+" anywhere.

Zammad documents its customers' phones as "0061 2 1234 7777": the 00 international prefix
most of the world dials, which the phonenumbers library reads only in a region that dials it.
"""

from __future__ import annotations

import phonenumbers
import pytest

from bot.phones import normalize_phone

AUSTRALIA = "+61212347777"
# Regions a helpdesk may be configured with whose own international prefix is not 00.
NOT_00 = [None, "US", "RU", "JP", "AU"]


@pytest.mark.parametrize("region", [*NOT_00, "DE", "GB"])
@pytest.mark.parametrize(
    "raw",
    [
        "0061 2 1234 7777",  # Zammad's example
        "0061212347777",
        "00 61 2 1234 7777",
        "0061-2-1234-7777",
        "0061.2.1234.7777",
        "(0061) 2 1234 7777",
        "00 (61) 2-1234-7777",
        " 0061 (2) 1234.7777 ",
        "+61 2 1234 7777",
        "+61 (2) 1234-7777",
        "+61.2.1234.7777",
    ],
)
def test_00_and_plus_are_international_in_any_region(raw: str, region: str | None) -> None:
    assert normalize_phone(raw, region=region) == AUSTRALIA


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0044 20 7946 0958", "+442079460958"),  # United Kingdom
        ("001 650-253-0000", "+16502530000"),  # United States
        ("007 (900) 123-45-67", "+79001234567"),  # Russia
        ("0049 30 12345678", "+493012345678"),  # Germany
        ("0033 1 42 68 53 00", "+33142685300"),  # France
        ("0081 3-1234-5678", "+81312345678"),  # Japan
        ("0055 11 96123-4567", "+5511961234567"),  # Brazil
        ("0091 11 2345 6789", "+911123456789"),  # India
    ],
)
@pytest.mark.parametrize("region", NOT_00)
def test_00_reads_several_countries_numbers(raw: str, expected: str, region: str | None) -> None:
    assert normalize_phone(raw, region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("8 (900) 123-45-67", "RU", "+79001234567"),
        ("(650) 253-0000", "US", "+16502530000"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 12345678", "DE", "+493012345678"),
        ("(02) 1234 7777", "AU", AUSTRALIA),
        ("03-1234-5678", "JP", "+81312345678"),
        # A region's own international prefix is still its own.
        ("011 61 2 1234 7777", "US", AUSTRALIA),
        ("8 10 61 2 1234 7777", "RU", AUSTRALIA),
        ("0011 61 2 1234 7777", "AU", AUSTRALIA),
        # Telegram's contacts: international, without the "+".
        ("79001234567", None, "+79001234567"),
        ("79001234567", "RU", "+79001234567"),
    ],
)
def test_national_numbers_keep_their_meaning(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["", "  ", "00", "0000", "00 999 123 456", "(00)", "00-", "+"])
@pytest.mark.parametrize("region", NOT_00)
def test_what_is_no_number_stays_none(raw: str, region: str | None) -> None:
    assert normalize_phone(raw, region=region) is None


EXAMPLES = [
    number
    for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    if (number := phonenumbers.example_number(region)) is not None
]


@pytest.mark.parametrize("region", [None, "US", "RU", "DE", "GB", "IN"])
def test_every_countrys_number_after_00_reads_as_itself(region: str | None) -> None:
    """Not in every region: Japan's and Australia's own plans give some 00... other meanings."""
    for number in EXAMPLES:
        expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        digits = phonenumbers.national_significant_number(number)
        for separator in ("", " ", "-", ".", " (", ") "):
            raw = f"00{separator}{number.country_code} {digits}"
            assert normalize_phone(raw, region=region) == expected, raw


def test_every_regions_national_form_keeps_its_meaning() -> None:
    kinds = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            assert normalize_phone(national, region=region) == expected, (region, national)
