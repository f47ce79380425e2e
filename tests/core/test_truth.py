"""fsd.truth: FreeSWITCH's switch_true / switch_false word lists and numbers."""

from __future__ import annotations

import pytest

from fsd.truth import is_false, is_true


@pytest.mark.parametrize("word", ["yes", "on", "true", "t", "enabled", "active", "allow",
                                  "TRUE", " Yes ", "1", "2", "-1", "10", "1.5"])
def test_true_words_and_nonzero_numbers(word):
    assert is_true(word)
    assert not is_false(word)


@pytest.mark.parametrize("word", ["no", "off", "false", "f", "disabled", "inactive",
                                  "disallow", "0", "0.9", "00"])
def test_false_words_and_zero(word):
    assert not is_true(word)
    assert is_false(word)


@pytest.mark.parametrize("word", ["y", "n", "maybe", "1a", "true!", "yes please"])
def test_other_text_is_neither(word):
    assert not is_true(word)
    assert not is_false(word)


def test_unset_gives_the_default_and_bools_are_themselves():
    assert is_true(None) is False and is_true("") is False
    assert is_true(None, True) is True and is_true("  ", True) is True
    assert is_true("off", True) is False
    assert is_true(True) is True and is_true(False, True) is False
    assert is_false(None) is False and is_false(False) is True
