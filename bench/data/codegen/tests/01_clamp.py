def check(m):
    assert m.clamp(5, 0, 3) == 3
    assert m.clamp(-1, 0, 3) == 0
    assert m.clamp(2, 0, 3) == 2
    assert m.clamp(0.5, 0.0, 1.0) == 0.5
