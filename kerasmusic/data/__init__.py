"""Reading music and turning it into model inputs.

- ``notes``: :class:`Note`, :class:`Track`, :class:`Piece`, exact quarter-length times.
- ``midi``: ``read_midi`` (symusic) / ``write_midi`` (miditoolkit); ``midi_layout``: what
  symusic does not tell; ``midi_miditoolkit``: the reference reader.
- ``scores``: ``read_score`` / ``write_musicxml`` (music21: MusicXML, kern, ABC).
- ``corpus``: ``load_corpus`` for the bundled music21 corpus or a folder, with an
  on-disk JSON cache and broken files reported, not fatal.
- ``vocabulary``: :class:`Vocabulary`, JSON save/load.
- ``note_tokens``: :class:`NoteDurationEncoding`, the attention LSTM's representation.
- ``pipeline``: ``tf.data`` windows and the by-piece train/validation split.
"""
