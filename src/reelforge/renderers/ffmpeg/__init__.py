"""The ffmpeg backend (the default): segments cached by content, rendered in runs, an audio pass, one mux."""
