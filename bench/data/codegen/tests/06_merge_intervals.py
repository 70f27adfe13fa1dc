def check(m):
    assert [tuple(x) for x in m.merge_intervals([(5, 6), (1, 3), (2, 4)])] == [(1, 4), (5, 6)]
    assert [tuple(x) for x in m.merge_intervals([(1, 2), (2, 3)])] == [(1, 3)]
    assert list(m.merge_intervals([])) == []
