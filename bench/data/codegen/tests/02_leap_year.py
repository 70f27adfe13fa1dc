def check(m):
    assert m.is_leap_year(2024) is True
    assert m.is_leap_year(1900) is False
    assert m.is_leap_year(2000) is True
    assert m.is_leap_year(2023) is False
