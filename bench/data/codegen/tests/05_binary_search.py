def check(m):
    xs = [1, 3, 5, 7, 9, 11]
    assert all(m.binary_search(xs, x) == i for i, x in enumerate(xs))
    assert m.binary_search(xs, 4) == -1
    assert m.binary_search([], 1) == -1
