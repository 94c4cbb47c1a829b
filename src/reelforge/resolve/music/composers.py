"""One composer per mood: what each instrument plays, bar by bar, over the mood's chords."""

from __future__ import annotations

import numpy as np

from reelforge.resolve.music import instruments
from reelforge.resolve.music.arrangement import Grid, Mixer, Notes
from reelforge.resolve.music.presets import BEATS_PER_BAR, STEPS_PER_BEAT, MoodPreset


def _compose_upbeat(mood: MoodPreset, grid: Grid, mix: Mixer, seed: int) -> None:
    """D major, 120 BPM, I–V–vi–IV: four-on-the-floor kick, offbeat hats, bouncy bass, marimba, pumping pad."""
    play = Notes(grid.sample_rate)
    sixteenth_seconds = grid.step / grid.sample_rate
    kick, snare = play(instruments.kick, seed), play(instruments.snare, seed + 1)
    hat, open_hat = play(instruments.hat, seed + 2), play(instruments.hat, seed + 3, 0.3, 0.09)
    pad = Mixer(grid.length)
    # (sixteenth, interval above the root, length in sixteenths)
    bass_line = ((0, 0, 2), (3, 0, 1), (6, 12, 1), (8, 0, 2), (10, 7, 1), (11, 0, 1), (14, 12, 2))
    # (sixteenth, chord tone, velocity)
    arp_line = (
        (0, 0, 1.0), (2, 1, 0.6), (3, 2, 0.8), (6, 1, 0.7), (8, 3, 0.9), (10, 2, 0.6), (11, 1, 0.7), (14, 2, 0.7)
    )
    for bar in range(grid.bars):
        chord = mood.chord_at(bar)
        for beat in range(BEATS_PER_BAR):
            mix.add(grid.at(bar, beat * 4), kick, gain=0.4 if beat == 0 else 0.34)
            mix.add(grid.at(bar, beat * 4 + 2), hat, gain=0.08, pan=0.3, air=True, reverb=0.1)
            if beat % 2:
                mix.add(grid.at(bar, beat * 4), snare, gain=0.16, pan=-0.1, reverb=0.35)
        if bar == grid.bars - 1:  # a small fill that leads back to the top
            for step in (13, 15):
                mix.add(grid.at(bar, step), snare, gain=0.07, pan=-0.1, reverb=0.35)
            mix.add(grid.at(bar, 14), open_hat, gain=0.06, pan=0.3, air=True, reverb=0.2)
        for step, interval, length in bass_line:
            velocity = 1.0 if step % 4 == 0 else 0.8
            note = play(instruments.pluck, chord.bass + interval, length * sixteenth_seconds + 0.05, velocity=velocity,
                        harmonics=12, decay=0.5, damping=2.5)
            mix.add(grid.at(bar, step), note, gain=0.3)
        tones = (*chord.voicing, chord.voicing[0] + 12)
        for step, index, velocity in arp_line:
            note = play(instruments.mallet, tones[index] + 12, 0.6, velocity=velocity)
            mix.add(grid.at(bar, step), note, gain=0.1, pan=0.35 - 0.2 * index, reverb=0.3)
        for note in chord.voicing:
            for detune, pan in ((-6, -1.0), (6, 1.0)):
                sound = play(instruments.pad, note, grid.bar / grid.sample_rate, cutoff=1200, attack=0.05, release=0.25,
                             detune_cents=detune)
                pad.add(grid.at(bar), sound, pan=pan)
    pumping = 1 - 0.45 * _duck_shape(grid)  # the pad dips on every kick
    for channel, pan in ((0, -1.0), (1, 1.0)):
        mix.add(0, pad.dry[channel] * pumping, gain=0.045, pan=pan, reverb=0.4)


def _duck_shape(grid: Grid) -> np.ndarray:
    """0 to 1 over every beat of the loop: a 10 ms dip, then a recovery that reaches 0 exactly at the next beat."""
    beat = grid.step * STEPS_PER_BEAT
    seconds = (np.arange(grid.length) % beat) / grid.sample_rate
    beat_seconds, recovery = beat / grid.sample_rate, 0.12
    floor = np.exp(-beat_seconds / recovery)
    return np.minimum(1.0, seconds / 0.01) * (np.exp(-seconds / recovery) - floor) / (1 - floor)


def _compose_calm(mood: MoodPreset, grid: Grid, mix: Mixer, seed: int) -> None:
    """F major at 75 BPM, Imaj7–vi7–IVmaj7–V: warm pad, arpeggiated electric piano, round bass, a faint shaker."""
    play = Notes(grid.sample_rate)
    shaker = play(instruments.shaker, seed)
    arp_orders = ((0, 1, 2, 3, 4, 3, 2, 1), (4, 3, 2, 1, 0, 1, 2, 3))  # eighths up and down the chord, then down and up
    for bar in range(grid.bars):
        chord = mood.chord_at(bar)
        arp_order = arp_orders[bar // len(mood.progression) % 2]
        tones = (*chord.voicing, chord.voicing[1] + 12)
        mix.add(grid.at(bar), play(instruments.electric_piano, chord.bass + 12, 3.0, velocity=0.8), gain=0.12, reverb=0.4)
        for eighth, index in enumerate(arp_order):
            velocity = (1.0 if eighth == 0 else 0.85) if eighth % 2 == 0 else 0.4
            note = play(instruments.electric_piano, tones[index] + 12, 1.6, velocity=velocity)
            mix.add(grid.at(bar, eighth * 2), note, gain=0.1, pan=-0.4 + 0.2 * index, reverb=0.45)
        for note in chord.voicing:
            for detune, pan in ((-5, -0.7), (5, 0.7)):
                sound = play(instruments.pad, note, grid.bar / grid.sample_rate, cutoff=700, attack=0.9, release=1.0,
                             detune_cents=detune, brightness=1.6)
                mix.add(grid.at(bar), sound, gain=0.025, pan=pan, reverb=0.5)
        mix.add(grid.at(bar), play(instruments.round_bass, chord.bass, 2.3), gain=0.18)
        mix.add(grid.at(bar, 10), play(instruments.round_bass, chord.bass + 7, 0.9, velocity=0.6), gain=0.18)
        for beat in range(BEATS_PER_BAR):
            gain = 0.08 if beat % 2 else 0.06
            mix.add(grid.at(bar, beat * 4), shaker, gain=gain, pan=0.25, air=True, reverb=0.2)
            mix.add(grid.at(bar, beat * 4 + 2), shaker, gain=0.025, pan=0.25, air=True, reverb=0.2)


def _compose_dramatic(mood: MoodPreset, grid: Grid, mix: Mixer, seed: int) -> None:
    """C minor, 90 BPM, i–VI–III–VII: low string pad, galloping cello ostinato, timpani that build to the top."""
    play = Notes(grid.sample_rate)
    bar_seconds = grid.bar / grid.sample_rate
    # timpani in each bar of a four-bar phrase, as (sixteenth, velocity): more hits every bar, then a roll into the next
    timpani_phrase = (
        ((0, 1.0),),
        ((0, 0.8), (8, 0.6)),
        ((0, 0.8), (8, 0.6), (14, 0.5)),
        ((0, 0.8), (4, 0.5), (8, 0.6), (10, 0.45), (12, 0.5), (13, 0.5), (14, 0.6), (15, 0.7)),
    )
    gallop = ((0, 0, 1.0), (2, 12, 0.45), (3, 12, 0.55))  # "dum da-da" on every beat: sixteenth, interval, velocity
    violin_line = (75, 72, 70, 74)  # Eb5 C5 Bb4 D5: a chord tone of each chord, for the second phrase
    for bar in range(grid.bars):
        chord = mood.chord_at(bar)
        second_phrase = bar >= len(mood.progression)
        for voice, note in enumerate(chord.voicing):
            for detune, pan in ((-8, -0.5), (0, 0.0), (8, 0.5)):
                sound = play(instruments.pad, note, bar_seconds, cutoff=900, attack=0.35, release=0.6, detune_cents=detune,
                             vibrato=0.003)
                mix.add(grid.at(bar), sound, gain=0.025, pan=pan * (0.5 + 0.15 * voice), reverb=0.45)
        if second_phrase:  # violins join for the build
            for detune, pan in ((-6, -0.4), (6, 0.4)):
                sound = play(instruments.pad, violin_line[bar % len(violin_line)], bar_seconds, cutoff=1500, attack=0.6,
                             release=0.6, detune_cents=detune, vibrato=0.004)
                mix.add(grid.at(bar), sound, gain=0.012, pan=pan, reverb=0.6)
        for beat in range(BEATS_PER_BAR):
            for step, interval, velocity in gallop:
                note = play(instruments.pluck, chord.bass + interval, 0.25, velocity=velocity, harmonics=20, decay=0.2,
                            damping=1.2)
                gain = 0.26 if second_phrase else 0.2
                mix.add(grid.at(bar, beat * 4 + step), note, gain=gain, pan=-0.15, reverb=0.3)
        for step, velocity in timpani_phrase[bar % len(timpani_phrase)]:
            # the roll at the end of a phrase is already on the root it leads to
            rolling = step >= 12 and bar % len(timpani_phrase) == len(timpani_phrase) - 1
            root = (mood.chord_at(bar + 1) if rolling else chord).bass
            hit = play(instruments.timpani, root + (12 if root < 36 else 0), seed, velocity=velocity)
            mix.add(grid.at(bar, step), hit, gain=0.2 if second_phrase else 0.16, pan=0.1, reverb=0.5)


COMPOSERS = {"upbeat": _compose_upbeat, "calm": _compose_calm, "dramatic": _compose_dramatic}
SEEDS = {"upbeat": 1101, "calm": 2202, "dramatic": 3303}

