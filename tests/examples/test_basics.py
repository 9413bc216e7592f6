"""The README's demo runs and says what it shows."""

from lazyarr.examples import basics


def test_basics_runs(capsys):
    basics.main()
    out = capsys.readouterr().out
    assert "its corner, computed on demand" in out
    assert "NumPy agrees: True" in out
    assert "basics.py" in out  # the shape error names the demo's own line
