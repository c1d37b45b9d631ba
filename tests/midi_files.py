"""Random valid MIDI files for the reader tests (tests/test_midi_readers.py).

``plain`` files set programs and names before their notes and end every note, as most
files do; the others put anything anywhere: program changes and names between notes,
notes left sounding or started twice, a tempo at tick 0 in a later track, lyrics,
sysex, running status, Latin-1 names. The same seed gives the same file.
"""

from __future__ import annotations

import random

import mido

_NAMES = ("Piano", "Bass", "Flöte", "Violín I", "")


def random_midi(path, seed: int, plain: bool) -> None:
    """Write a random valid MIDI file to ``path``."""
    rng = random.Random(seed)
    smf_format = rng.choice((0, 1, 1, 2))
    mid = mido.MidiFile(type=smf_format, ticks_per_beat=rng.choice((96, 384, 480, 1000)),
                        charset="latin1")
    for _ in range(1 if smf_format == 0 else rng.randint(1, 4)):
        mid.tracks.append(mido.MidiTrack(_events(rng, plain)))
    mid.save(path)


def _events(rng: random.Random, plain: bool) -> list:
    channels = rng.sample((0, 1, 2, 9), rng.randint(1, 3))
    pitches = rng.sample(range(36, 84), 4)
    events = []
    if rng.random() < 0.7:
        events.append(mido.MetaMessage("track_name", name=rng.choice(_NAMES)))
    for channel in channels:
        if rng.random() < 0.6:
            events.append(mido.Message("program_change", channel=channel,
                                       program=rng.randrange(128)))
    if rng.random() < 0.5:
        events.append(mido.MetaMessage("set_tempo", tempo=rng.choice((400000, 500000, 612345))))
    if rng.random() < 0.4:
        events.append(mido.MetaMessage("time_signature", numerator=rng.choice((3, 4, 6)),
                                       denominator=rng.choice((2, 4, 8))))
    if rng.random() < 0.3:
        events.append(mido.Message("sysex", data=[0x7E, 0x7F, 0x09, 0x01]))
    sounding = []
    for _ in range(rng.choice((0, 5, 40, 200))):
        delta = rng.choice((0, 0, 0, 1, 60, 120, 240, 480))
        roll = rng.random()
        if sounding and (roll < 0.45 or len(sounding) > 6):
            channel, pitch = sounding.pop(rng.randrange(len(sounding)))
            off = (mido.Message("note_on", channel=channel, note=pitch, velocity=0, time=delta)
                   if rng.random() < 0.5 else
                   mido.Message("note_off", channel=channel, note=pitch, time=delta))
            events.append(off)
        elif roll < 0.85 or plain:
            channel, pitch = rng.choice(channels), rng.choice(pitches)
            if plain and (channel, pitch) in sounding:
                continue
            sounding.append((channel, pitch))
            events.append(mido.Message("note_on", channel=channel, note=pitch,
                                       velocity=rng.randrange(1, 128), time=delta))
        else:
            events.append(rng.choice((
                mido.Message("program_change", channel=rng.choice(channels),
                             program=rng.randrange(128), time=delta),
                mido.MetaMessage("track_name", name=rng.choice(_NAMES), time=delta),
                mido.MetaMessage("set_tempo", tempo=rng.choice((400000, 500000)), time=delta),
                mido.MetaMessage("time_signature", numerator=5, denominator=8, time=delta),
                mido.MetaMessage("lyrics", text="la", time=delta),
                mido.Message("control_change", channel=rng.choice(channels), control=64,
                             value=127, time=delta),
                mido.Message("note_off", channel=rng.choice(channels), note=rng.choice(pitches),
                             time=delta),
            )))
    if plain or rng.random() < 0.7:
        for channel, pitch in sounding:
            events.append(mido.Message("note_off", channel=channel, note=pitch,
                                       time=rng.choice((0, 120))))
    return events
