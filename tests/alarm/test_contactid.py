"""Contact ID blocks and tones on literal values."""

from __future__ import annotations

import pytest

from pigate.alarm import ContactIdError, checksum_ok, encode_block, parse_block
from pigate.alarm.contactid import handshake_pcm, kissoff_pcm
from pigate.media.dtmf import tone_share


def test_checksum_weights_zero_as_ten_and_hex_digits_as_eleven_to_fifteen():
    # 1+2+3+4+1+8+1+1+3+1+10+1+10+1+5 = 52; 52 + 8 = 60, a multiple of 15
    assert checksum_ok("1234181131010158")
    assert not checksum_ok("1234181131010159")
    assert encode_block("1234", "131", zone="015") == "1234181131010158"
    # A sum already divisible by 15 takes the digit F (DTMF C), never 0
    block = encode_block("0000", "000", qualifier="0", partition="00", zone="000", message_type="00")
    assert block[-1] == "C" and checksum_ok(block)


def test_parse_reads_the_fields_in_hex():
    event = parse_block(encode_block("12B4", "E30", qualifier="3", partition="02", zone="F01"))
    assert (event.account, event.message_type, event.qualifier, event.kind, event.event_code, event.partition,
            event.zone) == ("12B4", "18", "3", "restore", "E30", "02", "F01")
    assert event.raw.startswith("12*4")


@pytest.mark.parametrize("block", ["123418113101015", "12341811310101588", "1234171131010158", "12341811310101D8"])
def test_bad_blocks_are_refused(block):
    with pytest.raises(ContactIdError):
        parse_block(block)


def test_the_receivers_tones():
    hs = handshake_pcm()
    assert len(hs) == 2 * 8000 * 3 // 10                       # 300 ms
    assert tone_share(hs[:1600], 1400) > 0.9 and tone_share(hs[-1600:], 2300) > 0.9
    assert tone_share(hs[1600:3200], 1400) == 0.0              # the silence between
    ko = kissoff_pcm()
    assert len(ko) == 2 * 8000 * 850 // 1000 and tone_share(ko[800:-800], 1400) > 0.9
