//! FFmpeg-backed sources.
