"""Stage 4, render: backends that turn a timeline into a video, single frames and moviepy clips."""
