def check(m):
    assert [tuple(p) for p in m.rle_encode("aaab")] == [("a", 3), ("b", 1)]
    assert list(m.rle_encode("")) == []
    assert m.rle_decode([("x", 2), ("y", 1)]) == "xxy"
    assert m.rle_decode(m.rle_encode("zzzzqq")) == "zzzzqq"
