def check(m):
    assert m.word_count("The cat, the hat!") == {"the": 2, "cat": 1, "hat": 1}
    assert m.word_count("Кот и КОТ") == {"кот": 2, "и": 1}
    assert m.word_count("") == {}
