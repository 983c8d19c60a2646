from portal.web.query_args import MAX_ID, db_id


def test_only_plausible_row_ids_pass() -> None:
    assert db_id("42") == 42
    assert db_id(" 7 ") == 7
    assert db_id(str(MAX_ID)) == MAX_ID
    for junk in ("7707083893", "0", "-1", "x", "", None, "4.2"):
        assert db_id(junk) is None
