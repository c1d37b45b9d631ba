"""The Keras-fit trainers under MirroredStrategy train as they do on one device."""

from builders import run_on_two_cpus


def test_fit_trainers_under_mirrored_strategy_match_one_device():
    script = """
        import numpy as np, tensorflow as tf
        import kerasmusic as km
        from builders import make_piece
        rng = np.random.default_rng(0)
        pieces = [make_piece([(int(p), i, int(d)) for i, (p, d) in enumerate(
                      zip(rng.integers(60, 72, 48), rng.integers(1, 3, 48)))], name=f"p{k}")
                  for k in range(6)]
        trainers = {
            "note_lstm": lambda s: km.train_note_lstm(
                pieces, seq_len=8, embed_size=4, rnn_units=8, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0),
            "pianoroll_rnn": lambda s: km.train_pianoroll_rnn(
                pieces, seq_len=16, hop=8, units=8, n_layers=1, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0),
            "event_lstm": lambda s: km.train_event_lstm(
                pieces, units=8, dropout=0.0, epochs=2, batch_size=8,
                validation_fraction=0.34, seed=1, strategy=s, verbose=0),
        }
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        for name, train in trainers.items():
            one = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
            two = train(mirrored)
            for key in ("loss", "val_loss"):
                np.testing.assert_allclose(one.history[key], two.history[key], rtol=1e-4,
                                           err_msg=f"{name} {key}")
            for a, b in zip(one.model.get_weights(), two.model.get_weights()):
                np.testing.assert_allclose(a, b, atol=1e-4, err_msg=name)
            assert all(np.isfinite(one.history["loss"]))
            print(name, "EQUAL", one.history["loss"])
    """
    assert "event_lstm EQUAL" in run_on_two_cpus(script)
