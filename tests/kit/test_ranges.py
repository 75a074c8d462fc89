import pytest

from leadcall.kit.ranges import UnsatisfiableRange, byte_range


def test_byte_ranges_a_player_asks_for() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-", 100) == (0, 99)
    assert byte_range("bytes=10-19", 100) == (10, 19)
    assert byte_range("bytes=90-200", 100) == (90, 99)  # past the end: up to the end
    assert byte_range("bytes=-10", 100) == (90, 99)
    assert byte_range("bytes=-500", 100) == (0, 99)
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole content is a fair answer
    assert byte_range("items=0-1", 100) is None
    assert byte_range("bytes=20-10", 100) is None
    with pytest.raises(UnsatisfiableRange):
        byte_range("bytes=100-", 100)
    with pytest.raises(UnsatisfiableRange):
        byte_range("bytes=-0", 100)
