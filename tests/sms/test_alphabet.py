"""Every character of the GSM 7-bit default alphabet and its extension table, as 3GPP TS 23.038 (section 6.2.1
and 6.2.1.1) lists them, is sent as GSM-7 with its own septet and arrives unchanged."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pigate import smstext
from pigate.sms import codec as c
from pigate.sim import pdu as simpdu

TO = "+15551230001"
WHEN = datetime(2026, 12, 1, 7, 15, 45, tzinfo=timezone.utc)

# 23.038 table 6.2.1, written as Unicode code points (column by column of the standard's table): septet -> char.
DEFAULT_ALPHABET = {
    0x00: 0x0040, 0x01: 0x00A3, 0x02: 0x0024, 0x03: 0x00A5, 0x04: 0x00E8, 0x05: 0x00E9, 0x06: 0x00F9,
    0x07: 0x00EC, 0x08: 0x00F2, 0x09: 0x00C7, 0x0A: 0x000A, 0x0B: 0x00D8, 0x0C: 0x00F8, 0x0D: 0x000D,
    0x0E: 0x00C5, 0x0F: 0x00E5,
    0x10: 0x0394, 0x11: 0x005F, 0x12: 0x03A6, 0x13: 0x0393, 0x14: 0x039B, 0x15: 0x03A9, 0x16: 0x03A0,
    0x17: 0x03A8, 0x18: 0x03A3, 0x19: 0x0398, 0x1A: 0x039E, 0x1C: 0x00C6, 0x1D: 0x00E6, 0x1E: 0x00DF,
    0x1F: 0x00C9,
    0x20: 0x0020, 0x21: 0x0021, 0x22: 0x0022, 0x23: 0x0023, 0x24: 0x00A4, 0x25: 0x0025, 0x26: 0x0026,
    0x27: 0x0027, 0x28: 0x0028, 0x29: 0x0029, 0x2A: 0x002A, 0x2B: 0x002B, 0x2C: 0x002C, 0x2D: 0x002D,
    0x2E: 0x002E, 0x2F: 0x002F,
    **{0x30 + d: 0x0030 + d for d in range(10)},
    0x3A: 0x003A, 0x3B: 0x003B, 0x3C: 0x003C, 0x3D: 0x003D, 0x3E: 0x003E, 0x3F: 0x003F,
    0x40: 0x00A1, **{0x41 + i: 0x0041 + i for i in range(26)},
    0x5B: 0x00C4, 0x5C: 0x00D6, 0x5D: 0x00D1, 0x5E: 0x00DC, 0x5F: 0x00A7,
    0x60: 0x00BF, **{0x61 + i: 0x0061 + i for i in range(26)},
    0x7B: 0x00E4, 0x7C: 0x00F6, 0x7D: 0x00F1, 0x7E: 0x00FC, 0x7F: 0x00E0,
}
# 23.038 table 6.2.1.1: the characters after the escape 0x1B (each costs two septets).
EXTENSION_TABLE = {0x0A: 0x000C, 0x14: 0x005E, 0x28: 0x007B, 0x29: 0x007D, 0x2F: 0x005C, 0x3C: 0x005B,
                   0x3D: 0x007E, 0x3E: 0x005D, 0x40: 0x007C, 0x65: 0x20AC}


def test_the_tables_are_complete():
    assert len(DEFAULT_ALPHABET) == 127  # 128 septets, less the escape
    assert sorted(DEFAULT_ALPHABET) == [s for s in range(128) if s != 0x1B]


@pytest.mark.parametrize("septet, cp", sorted(DEFAULT_ALPHABET.items()), ids=lambda v: f"{v:02X}")
def test_every_default_alphabet_character_is_its_own_septet(septet, cp):
    ch = chr(cp)
    assert smstext.septets(ch) == [septet]
    assert smstext.text_of([septet]) == ch
    assert c.encoding_for(f"a{ch}b") == c.GSM7


@pytest.mark.parametrize("code, cp", sorted(EXTENSION_TABLE.items()), ids=lambda v: f"{v:02X}")
def test_every_extension_character_is_the_escape_and_its_code(code, cp):
    ch = chr(cp)
    assert smstext.septets(ch) == [0x1B, code]
    assert smstext.text_of([0x1B, code]) == ch
    assert c.encoding_for(f"a{ch}b") == c.GSM7


def test_a_message_of_every_character_goes_out_as_gsm7_and_arrives_unchanged():
    text = "".join(chr(cp) for cp in DEFAULT_ALPHABET.values()) + "".join(chr(cp) for cp in EXTENSION_TABLE.values())
    pdus = c.encode_submit(TO, text, reference=5)
    subs = [simpdu.decode_submit(p.hex, tpdu_length=p.tpdu_length) for p in pdus]
    assert {s.alphabet for s in subs} == {"gsm7"} and {s.dcs for s in subs} == {0x00}
    assert "".join(s.text for s in subs) == text
    assert len(pdus) == 1 + (127 + 2 * 10 > 160)  # 147 septets: one message


def test_the_section_sign_is_gsm7_so_160_of_them_fit_one_message():
    [pdu] = c.encode_submit(TO, "§" * 160, reference=1)
    sub = simpdu.decode_submit(pdu.hex, tpdu_length=pdu.tpdu_length)
    assert (sub.alphabet, sub.text) == ("gsm7", "§" * 160)
    assert c.decode_deliver(simpdu.Deliver(sender=TO, part=simpdu.Part("§ 5", "gsm7"), time=WHEN,
                                           smsc="+15550009999").pdu()[0]).text == "§ 5"


@pytest.mark.parametrize("code, shown", [(0x41, "A"), (0x1B, " ")])
def test_an_undefined_extension_code_shows_the_default_character_at_that_code(code, shown):
    assert smstext.text_of([0x1B, code]) == shown


def test_characters_outside_both_tables_make_it_ucs2():
    for ch in ("`", "ÿ", "ç", "\x1b", "ж", "😀"):
        assert c.encoding_for(f"a{ch}") == c.UCS2, repr(ch)
