import numpy as np
import pytest

from bibench_deploy.dabnn.bitpack import pack_weights, unpack_weights


def hand_pack(weights_ohwi: np.ndarray, words_per_filter: int) -> list[int]:
    """Bit by bit, with Python integers: element e of a filter is bit e % 64 of word e // 64."""
    words = []
    for flat_filter in weights_ohwi.reshape(weights_ohwi.shape[0], -1):
        filter_words = [0] * words_per_filter
        for element, value in enumerate(flat_filter):
            if value > 0:
                filter_words[element // 64] |= 1 << (element % 64)
        words += filter_words
    return words


def random_signs(shape, seed=0) -> np.ndarray:
    return np.where(np.random.default_rng(seed).random(shape) > 0.5, 1.0, -1.0)


@pytest.mark.parametrize("in_channels, kernel, words_per_filter", [
    (32, 3, 6),    # 288 bits -> 384: the tail word of each filter is all padding
    (48, 3, 8),    # 432 bits -> 512
    (64, 3, 9),    # exactly 64 channels: 576 bits, no padding
    (64, 1, 1),
    (96, 3, 14),   # 864 bits -> 896
    (128, 3, 18),  # 1152 bits, already a multiple of 128
    (32, 1, 2),
])
def test_pack_matches_hand_packing(in_channels, kernel, words_per_filter):
    weights = random_signs((3, kernel, kernel, in_channels), seed=in_channels + kernel)
    packed = pack_weights(weights)
    assert packed.dtype == np.uint64
    assert [int(w) for w in packed] == hand_pack(weights, words_per_filter)


def test_explicit_words_for_64_channels():
    weights = -np.ones((1, 1, 1, 64))
    weights[0, 0, 0, [0, 63]] = 1
    assert pack_weights(weights).tolist() == [0x8000000000000001]


def test_short_filters_are_padded_with_zeros_not_the_next_filter():
    weights = np.stack([-np.ones((1, 1, 32)), np.ones((1, 1, 32))])
    assert pack_weights(weights).tolist() == [0, 0, 0xFFFFFFFF, 0]


def test_zero_weight_is_the_bit_of_minus_one():
    weights = np.zeros((1, 1, 1, 64))
    weights[0, 0, 0, 5] = 0.5
    assert pack_weights(weights).tolist() == [1 << 5]


@pytest.mark.parametrize("in_channels", [32, 48, 64, 96, 128, 3])
def test_unpack_inverts_pack(in_channels):
    weights = random_signs((4, 3, 3, in_channels), seed=in_channels)
    np.testing.assert_array_equal(unpack_weights(pack_weights(weights), weights.shape), weights)


def test_unpack_rejects_nonzero_padding():
    packed = pack_weights(random_signs((1, 1, 1, 32)))
    packed[1] = 1
    with pytest.raises(ValueError, match="padding"):
        unpack_weights(packed, (1, 1, 1, 32))
