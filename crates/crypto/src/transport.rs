//! Transport encryption of RTP and RTCP packets.
