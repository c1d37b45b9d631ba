"""Mutated MIDI, MusicXML, .mxl, kern and ABC files: only library errors, no hang.

The default run reads 40 mutants of each kind; ``--run-slow`` reads 300 of each.
``python benchmarks/fuzz.py`` runs thousands and prints the counts.
"""

import pytest
from fuzzing import KINDS, load_outcomes, write_mutants


@pytest.mark.parametrize("per_kind", [40, pytest.param(300, marks=pytest.mark.slow)])
def test_mutated_files_give_only_library_errors(tmp_path, per_kind):
    paths = write_mutants(tmp_path / "files", per_kind)
    assert len(paths) == per_kind * len(KINDS)
    # music21 runs for minutes on a few mutants (a kern meter of 99999999/2, an ABC note
    # 99999999 units long): the per-file limit stops them and they are reported as
    # errors ("hung" here), so the load returns whatever the machine's speed.
    counts, unusual = load_outcomes(paths, tmp_path / "cache", file_timeout=10)
    assert counts["other"] == 0, unusual
    assert sum(counts.values()) == len(paths)
    assert counts["ok"] and counts["library error"]  # the mutants are of both kinds
