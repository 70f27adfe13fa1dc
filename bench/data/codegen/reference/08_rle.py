from itertools import groupby


def rle_encode(text):
    return [(c, len(list(g))) for c, g in groupby(text)]


def rle_decode(pairs):
    return "".join(c * n for c, n in pairs)
