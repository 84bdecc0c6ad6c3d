"""The SMS codec on literal strings, cross-checked against gsmmodem.pdu and the simulator's own PDU codec."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from gsmmodem import pdu as gsmpdu
from hypothesis import given, settings, strategies as st

from pigate.sms import codec as c
from pigate.sim import pdu as simpdu

TO = "+15551230001"


def _sim_decode(parts: list[c.SubmitPdu]) -> tuple[str, list[simpdu.Submit]]:
    """What the simulated network reads from our PDUs: the text reassembled from its parts, and the parts."""
    subs = [simpdu.decode_submit(p.hex, tpdu_length=p.tpdu_length) for p in parts]
    return "".join(s.text for s in subs), subs


@pytest.mark.parametrize("raw, want", [
    ("+15551230001", "+15551230001"), ("+1 (555) 123-0001", "+15551230001"), ("06203123412", "06203123412"),
    ("0036201234567", "+36201234567"), ("123", "123"),
])
def test_numbers_are_normalized(raw, want):
    assert c.normalize_number(raw) == want


@pytest.mark.parametrize("raw", ["", "12", "+", "abc", "+1234567890123456789012", "12a45", "++123"])
def test_bad_numbers_are_refused(raw):
    with pytest.raises(c.CodecError):
        c.normalize_number(raw)


def test_same_number_across_international_and_national_forms():
    assert c.same_number("+36201234567", "06201234567") is True
    assert c.same_number("+36201234567", "06201234568") is False
    assert c.same_number("123", "9123") is False  # too short to call the same
    assert c.same_number("+15551230001", "15551230001") is True
    assert c.same_number("+15551230001", "+15551230002") is False


def test_single_gsm7_pdu_is_exactly_what_gsmmodem_makes():
    [p] = c.encode_submit(TO, "hello", reference=77)
    lib = gsmpdu.encodeSmsSubmitPdu(TO, "hello", reference=0, requestStatusReport=True)[0]
    assert (p.hex, p.tpdu_length) == (str(lib), lib.tpduLength)
    assert int(p.hex[2:4], 16) & 0x20, "status report requested"


def test_encoding_choice():
    assert c.encoding_for("Hello {world} €5") == c.GSM7
    assert c.encoding_for("Grüße") == c.GSM7  # ü is in the default alphabet
    assert c.encoding_for("Ελληνικά ok") == c.UCS2
    assert c.encoding_for("thumbs 👍") == c.UCS2
    assert c.encoding_for("a`b") == c.UCS2  # gsmmodem would map it onto the section sign


@pytest.mark.parametrize("text, parts", [
    ("x" * 160, 1), ("x" * 161, 2), ("x" * 306, 2), ("x" * 307, 3),  # 153 septets a part
    ("€" * 80, 1), ("€" * 81, 2),  # escapes count two septets
    ("ж" * 70, 1), ("ж" * 71, 2), ("ж" * 134, 2), ("ж" * 135, 3),  # 67 units a part
    ("😀" * 35, 1), ("😀" * 36, 2),
])
def test_part_counts_with_the_default_8_bit_reference(text, parts):
    assert c.part_count(text) == parts


@pytest.mark.parametrize("text, parts", [
    ("x" * 304, 2), ("x" * 305, 3), ("ж" * 132, 2), ("ж" * 133, 3),  # 152 / 66 a part
])
def test_part_counts_with_the_16_bit_reference(text, parts):
    assert c.part_count(text, reference_bits=16) == parts


def test_a_306_character_message_is_two_parts_of_153_with_an_8_bit_reference():
    pdus = c.encode_submit(TO, "x" * 306, reference=0x1234)
    _, subs = _sim_decode(pdus)
    assert [len(s.text) for s in subs] == [153, 153]
    assert all(s.udh[1:3] == bytes([0x00, 0x03]) and s.concat.reference == 0x34 for s in subs)
    assert all(p.tpdu_length <= 140 + 13 for p in pdus)
    wide = c.encode_submit(TO, "x" * 306, reference=0x1234, reference_bits=16)
    assert len(wide) == 3
    assert {s.concat.reference for s in _sim_decode(wide)[1]} == {0x1234}


def test_the_simulated_handset_and_the_codec_split_alike():
    """One rule for both ends: a handset's multipart message has as many parts as the gateway would send."""
    for text in ("x" * 306, "x" * 307, "ж" * 134, "ж" * 135, "€" * 77, "a" * 66 + "😀" + "b" * 40):
        assert len(simpdu.split_text(text)) == c.part_count(text), text


def test_a_gsm7_escape_is_never_split_across_parts():
    text = "x" * 152 + "€" + "y" * 10
    enc, parts = c.split_text(text)
    assert parts[0] == "x" * 152 and parts[1].startswith("€")


def test_a_surrogate_pair_is_never_split_across_parts():
    text = "a" * 66 + "😀" + "b" * 10  # the emoji's halves would be units 67 and 68
    enc, parts = c.split_text(text)
    assert enc == c.UCS2 and parts[0] == "a" * 66 and parts[1].startswith("😀")


@pytest.mark.parametrize("text", [
    "hello", "x" * 400, "Straße {} [] ~ € " * 30, "Привет, мир! " * 20, "emoji 😀🎉👍🏽 " * 25, "😀" * 36,
    "a" * 65 + "😀" + "b" * 10,
])
def test_the_simulated_network_reads_our_pdus_back_exactly(text):
    parts = c.encode_submit(TO, text, reference=0x1234)
    got, subs = _sim_decode(parts)
    assert got == text
    assert all(s.recipient == TO and s.status_report for s in subs)
    if len(parts) > 1:
        assert {s.concat.reference for s in subs} == {0x34}, "8-bit reference"
        assert [s.concat.seq for s in subs] == list(range(1, len(parts) + 1))
        assert all(len(bytes.fromhex(p.hex)) - 1 == p.tpdu_length <= 140 + 13 for p in parts)


def test_eight_bit_reference_parts_match_gsmmodem_byte_for_byte():
    text = "abc{}" * 60
    lib = [str(p) for p in gsmpdu.encodeSmsSubmitPdu(TO, text, reference=0)]
    assert [p.hex for p in c.encode_submit(TO, text, reference=0)] == lib


def test_too_many_parts_is_refused_with_the_length_and_the_limit():
    c.encode_submit(TO, "x" * (153 * 3), reference=1, max_parts=3)
    with pytest.raises(c.TooLong) as info:
        c.encode_submit(TO, "x" * (153 * 3 + 1), reference=1, max_parts=3)
    assert "460 characters" in str(info.value) and "4 SMS parts" in str(info.value)
    assert "at most 3 parts (459 GSM-7 septets)" in str(info.value)


def _deliver(text: str, *, concat: simpdu.Concat | None = None, alphabet: str | None = None) -> str:
    part = simpdu.Part(text, alphabet or simpdu.alphabet_for(text), concat)
    when = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    return simpdu.Deliver(sender="+15551230001", part=part, time=when, smsc="+15550009999").pdu()[0]


@pytest.mark.parametrize("text", ["hi", "Grüße {x} € § @", "Привет", "🎉 party 😀", "x" * 160])
def test_deliver_single_parts_decode(text):
    d = c.decode_deliver(_deliver(text))
    assert (d.sender, d.text, d.multipart) == ("+15551230001", text, False)
    assert d.timestamp.year == 2024


@pytest.mark.parametrize("ref", [7, 0x1234])  # 8-bit and 16-bit concatenation headers
@pytest.mark.parametrize("alphabet", ["gsm7", "ucs2"])
def test_deliver_parts_decode_with_both_reference_sizes(ref, alphabet):
    d = c.decode_deliver(_deliver("part two text", concat=simpdu.Concat(ref, 3, 2), alphabet=alphabet))
    assert (d.text, d.reference, d.total, d.seq, d.multipart) == ("part two text", ref, 3, 2, True)


def test_an_emoji_split_between_parts_by_a_sender_is_joined_again():
    raw = "😀".encode("utf-16-be")
    a = c.decode_deliver(_deliver("x", concat=simpdu.Concat(9, 2, 1), alphabet="ucs2"))
    # A sender may cut between the halves of a pair; joining the units restores the character.
    joined = a.data + raw[:2] + raw[2:]
    assert c.text_from_units(joined) == "x😀"
    assert c.text_from_units(a.data + raw[:2]) == "x\ufffd"


def test_status_reports_decode_with_their_outcome():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    for status, outcome in ((0x00, "delivered"), (0x20, "pending"), (0x41, "failed"), (0x62, "failed")):
        hexpdu = simpdu.StatusReport(reference=42, recipient=TO, status=status, submitted=now, discharged=now).pdu()[0]
        r = c.decode_status_report(hexpdu)
        assert (r.reference, r.recipient, r.status, r.outcome) == (42, TO, status, outcome)


def test_garbage_pdus_raise_codec_errors():
    for bad in ("", "ZZ", "0011", "00" * 3):
        with pytest.raises(c.CodecError):
            c.decode_deliver(bad)
    submit = c.encode_submit(TO, "hi", reference=0)[0].hex
    with pytest.raises(c.CodecError):
        c.decode_deliver(submit)
    with pytest.raises(c.CodecError):
        c.decode_status_report(submit)


def test_cms_classification():
    assert c.cms_is_permanent(304) and c.cms_is_permanent(1)
    assert not c.cms_is_permanent(500) and not c.cms_is_permanent(330) and not c.cms_is_permanent(None)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600))
def test_any_text_round_trips_through_the_network(text):
    try:
        parts = c.encode_submit(TO, text, reference=0xBEEF)
    except c.CodecError:
        assert c.part_count(text) > 10
        return
    got, _ = _sim_decode(parts)
    assert got == text


def test_a_backtick_goes_out_as_ucs2_and_arrives_as_a_backtick():
    [p] = c.encode_submit(TO, "say `hi`", reference=1)
    got, [sub] = _sim_decode([p])
    assert got == "say `hi`" and sub.alphabet == "ucs2"
