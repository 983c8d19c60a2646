from portal.web.query_args import MAX_ID, db_id


def test_only_plausible_row_ids_pass() -> None:
    assert db_id("42") == 42
    assert db_id(" 7 ") == 7
    assert db_id(str(MAX_ID)) == MAX_ID
    for junk in ("7707083893", "0", "-1", "x", "", None, "4.2"):
        assert db_id(junk) is None


def test_only_ascii_digits_make_a_number() -> None:
    from portal.web.query_args import strict_int

    for junk in ("²", "１００", "1_000", "1e3", "+5", " ", "9999999999999999999999", "٣"):
        assert strict_int(junk) is None, junk
    assert strict_int("0") == 0 and strict_int("0", minimum=1) is None
    assert db_id("²") is None and db_id("9" * 22) is None
