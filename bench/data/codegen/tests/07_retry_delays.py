def check(m):
    assert list(m.retry_delays(5, 1)) == [1, 2, 4]
    assert list(m.retry_delays(2, 1)) == [1, 2]
    assert list(m.retry_delays(3, 4)) == [4, 8, 10]
    assert list(m.retry_delays(0, 1)) == []
