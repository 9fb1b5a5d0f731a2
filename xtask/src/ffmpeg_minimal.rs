//! `cargo xtask ffmpeg-minimal`: builds a small, statically linked `FFmpeg` for voxwire-ffmpeg's
//! jobs into `target/ffmpeg-minimal/bin/`.
//!
//! A distribution's `FFmpeg` is linked against every library any user of it may want (Debian 12's
//! loads 213 shared libraries, all bound at start-up), so each process costs about 50 MB of
//! proportional memory and 80 ms of CPU before it decodes a byte. Transcoding audio to Opus needs
//! a few decoders, demuxers, the resampler and libopus: built with only those, statically, one
//! process is about 5 MB and starts in under a millisecond. See voxwire-ffmpeg's README.
//!
//! The source tarball and finished builds are kept in `~/.cache/voxwire` (or
//! `$XDG_CACHE_HOME/voxwire`), so that another checkout of the same settings copies the build
//! instead of compiling it; `cargo xtask test` builds it for voxwire-ffmpeg's tests.
//!
//! The source is the release Debian 12 ships (its upstream tarball from the Debian archive,
//! checked against a pinned SHA-256; once the archive has dropped that release, the release of
//! the installed `ffmpeg` package, checked against its `.dsc`); libopus is the system's static
//! library (`libopus-dev`).
//! The build is LGPL 2.1 or later (no GPL or non-free parts are enabled).

use std::fs;
use std::path::{Path, PathBuf};

use crate::setup;
use crate::util::{Cmd, Fail, have, root};

/// The `FFmpeg` release built.
const VERSION: &str = "5.1.9";
/// SHA-256 of `ffmpeg_5.1.9.orig.tar.xz`.
const SHA256: &str = "d9b593bb2ba93d4b50f74177e0cdcd41747e708596367deed0c30348a71dd176";
/// Where the Debian archive keeps source packages (security updates first).
const POOLS: &[&str] = &[
    "http://deb.debian.org/debian-security/pool/updates/main/f/ffmpeg",
    "http://deb.debian.org/debian/pool/main/f/ffmpeg",
];

/// What the build enables on top of `--disable-everything`: what voxwire-ffmpeg runs (transcode
/// to Ogg Opus, decode to PCM, probe, capability listing) for the common audio formats, files,
/// pipes and plain HTTP.
const CONFIGURE: &[&str] = &[
    "--disable-everything",
    "--disable-autodetect",
    "--disable-doc",
    "--disable-debug",
    "--disable-shared",
    "--enable-static",
    "--disable-ffplay",
    "--enable-ffmpeg",
    "--enable-ffprobe",
    "--disable-avdevice",
    "--disable-swscale",
    "--disable-postproc",
    "--enable-libopus",
    "--pkg-config-flags=--static",
    "--extra-ldflags=-static-pie",
    "--enable-swresample",
    "--enable-protocol=file,pipe,fd,http,tcp",
    "--enable-demuxer=mp3,aac,mov,ogg,flac,wav,matroska,w64,aiff,caf,pcm_s16le,pcm_f32le,amr,ape,\
     tta,wv,asf,xwma,au,mpegts,hls",
    "--enable-decoder=mp3,mp3float,mp2,mp2float,aac,aac_latm,flac,vorbis,opus,alac,ape,tta,\
     wavpack,wmav1,wmav2,pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_f32le,pcm_f64le,\
     pcm_u8,pcm_alaw,pcm_mulaw",
    "--enable-encoder=libopus,pcm_s16le,pcm_f32le",
    "--enable-muxer=ogg,opus,pcm_s16le,pcm_f32le,wav,null",
    "--enable-parser=mpegaudio,aac,aac_latm,flac,opus,vorbis",
    "--enable-filter=aresample,aformat,anull,volume,atrim,asetpts,pan,amix,loudnorm,dynaudnorm,\
     acompressor,alimiter,equalizer,highpass,lowpass,atempo,afade",
];

/// Where the build lives.
fn dir() -> PathBuf {
    root().join("target/ffmpeg-minimal")
}

/// A per-user cache (`$XDG_CACHE_HOME/voxwire` or `~/.cache/voxwire`) that keeps the source
/// tarball and finished builds across checkouts (CI builds a clean clone), keyed by the stamp.
fn cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("voxwire"))
}

/// FNV-1a of the stamp: names a cached build.
fn stamp_key() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in settings().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("ffmpeg-minimal-{h:016x}")
}

/// Copies `ffmpeg`, `ffprobe` and the stamp from one build directory to another.
fn copy_build(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to.join("bin"))?;
    for prog in ["bin/ffmpeg", "bin/ffprobe", "stamp"] {
        fs::copy(from.join(prog), to.join(prog))?;
    }
    Ok(())
}

/// Whether `dir` holds a working build with the current settings.
fn valid(dir: &Path) -> bool {
    let ffmpeg = dir.join("bin/ffmpeg");
    dir.join("bin/ffprobe").is_file()
        && fs::read_to_string(dir.join("stamp"))
            .is_ok_and(|s| s.split_once('\n').is_some_and(|(_, rest)| rest == settings()))
        && Cmd::new(&ffmpeg.to_string_lossy()).arg("-version").quiet().run().is_ok()
}

/// The built `ffmpeg`.
pub(crate) fn ffmpeg() -> PathBuf {
    dir().join("bin/ffmpeg")
}

/// What the stamp file records: a build with other settings is rebuilt.
fn stamp(version: &str, sha256: &str) -> String {
    format!("{version} {sha256}\n{}", settings())
}

/// The build settings, as the stamp records them.
fn settings() -> String {
    format!("{}\n", CONFIGURE.join(" "))
}

/// `cargo xtask ffmpeg-minimal`.
pub(crate) fn run() -> Result<(), Fail> {
    let ffmpeg = ensure()?;
    println!(
        "xtask ffmpeg-minimal: {}\n\nUse it with voxwire-ffmpeg: \
         `ToolsConfig::new().ffmpeg(\"{}\").ffprobe(\"{}\")`.",
        ffmpeg.display(),
        ffmpeg.display(),
        ffmpeg.with_file_name("ffprobe").display()
    );
    Ok(())
}

/// Builds the minimal `FFmpeg` unless a build with these settings exists; returns its `ffmpeg`.
pub(crate) fn ensure() -> Result<PathBuf, Fail> {
    let dir = dir();
    let stamp_file = dir.join("stamp");
    if valid(&dir) {
        return Ok(ffmpeg());
    }
    let cached = cache().map(|c| c.join(stamp_key()));
    if let Some(c) = cached.as_deref().filter(|c| valid(c)) {
        println!("xtask ffmpeg-minimal: taking the build from {}", c.display());
        copy_build(c, &dir).map_err(|e| Fail::new(format!("copying the cached build: {e}")))?;
        return Ok(ffmpeg());
    }
    setup::run(setup::Needs::Runtime)?;
    setup::ensure_tools(&[
        ("curl", &["curl"]),
        ("xz", &["xz-utils"]),
        ("make", &["make"]),
        ("nasm", &["nasm"]),
    ])?;

    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(|e| Fail::new(format!("{}: {e}", src.display())))?;
    let downloads = cache().filter(|c| fs::create_dir_all(c).is_ok()).unwrap_or(src.clone());
    let (version, sha, tarball) = source(&downloads)?;
    let tree = src.join(format!("ffmpeg-{version}"));
    let _ = fs::remove_dir_all(&tree);
    Cmd::new("tar").arg("-xf").arg(&tarball).arg("-C").arg(&src).run()?;

    println!("xtask ffmpeg-minimal: configuring FFmpeg {version} (minimal, static)");
    let prefix = format!("--prefix={}", dir.display());
    Cmd::new("./configure")
        .in_dir(&tree)
        .arg(&prefix)
        .args(CONFIGURE)
        .quiet_unless_failed()
        .run()?;
    let jobs = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    println!("xtask ffmpeg-minimal: building with {jobs} jobs (about a minute on 2 cores)");
    Cmd::new("make").in_dir(&tree).arg(format!("-j{jobs}")).quiet_unless_failed().run()?;
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).map_err(|e| Fail::new(format!("{}: {e}", bin.display())))?;
    for prog in ["ffmpeg", "ffprobe"] {
        fs::copy(tree.join(prog), bin.join(prog))
            .map_err(|e| Fail::new(format!("installing {prog}: {e}")))?;
    }
    let _ = fs::remove_dir_all(&tree);
    fs::write(&stamp_file, stamp(&version, &sha))
        .map_err(|e| Fail::new(format!("writing the stamp: {e}")))?;
    if let Some(c) = cached
        && let Err(e) = copy_build(&dir, &c)
    {
        println!("xtask ffmpeg-minimal: could not cache the build in {}: {e}", c.display());
    }
    Ok(ffmpeg())
}

/// The source tarball, downloaded into `dir` unless it is there: the pinned release, or, once
/// the archive has moved on from it, the release of the `FFmpeg` package installed here, checked
/// against the SHA-256 its Debian source description (`.dsc`) gives. Returns the version, the
/// checksum and the file.
fn source(dir: &Path) -> Result<(String, String, PathBuf), Fail> {
    let pinned = dir.join(format!("ffmpeg_{VERSION}.orig.tar.xz"));
    if pinned.is_file() && sha256(&pinned)? == SHA256 {
        return Ok((VERSION.into(), SHA256.into(), pinned));
    }
    if fetch(&format!("ffmpeg_{VERSION}.orig.tar.xz"), &pinned) && sha256(&pinned)? == SHA256 {
        return Ok((VERSION.into(), SHA256.into(), pinned));
    }
    let _ = fs::remove_file(&pinned);
    let installed = Cmd::new("dpkg-query")
        .args(["-W", "-f=${Version}", "ffmpeg"])
        .output()
        .ok()
        .and_then(|v| upstream_version(&v).map(|u| (u, v)));
    if let Some((upstream, full)) = installed.filter(|(u, _)| u != VERSION) {
        let debian = full.split_once(':').map_or(full.as_str(), |(_, v)| v).trim().to_owned();
        let name = format!("ffmpeg_{upstream}.orig.tar.xz");
        let dsc = dir.join(format!("ffmpeg_{debian}.dsc"));
        let tarball = dir.join(&name);
        if fetch(&format!("ffmpeg_{debian}.dsc"), &dsc)
            && let Some(want) = fs::read_to_string(&dsc).ok().and_then(|t| dsc_sha256(&t, &name))
            && (tarball.is_file() || fetch(&name, &tarball))
            && sha256(&tarball)? == want
        {
            println!("xtask ffmpeg-minimal: the archive has moved on; building FFmpeg {upstream}");
            return Ok((upstream, want, tarball));
        }
    }
    Err(Fail::new(format!(
        "ffmpeg-minimal: could not download the FFmpeg {VERSION} source from the Debian archive. \
         Download ffmpeg_{VERSION}.orig.tar.xz (SHA-256 {SHA256}) from any Debian mirror or \
         snapshot.debian.org, save it as {}, and run the command again.",
        pinned.display()
    )))
}

/// Downloads `name` from the first pool that has it.
fn fetch(name: &str, to: &Path) -> bool {
    POOLS.iter().any(|pool| {
        let url = format!("{pool}/{name}");
        println!("xtask ffmpeg-minimal: downloading {url}");
        Cmd::new("curl").args(["-fsSL", "--retry", "3", "-o"]).arg(to).arg(&url).run().is_ok()
    })
}

/// `5.1.9` from a Debian version such as `7:5.1.9-0+deb12u1`.
fn upstream_version(debian: &str) -> Option<String> {
    let v = debian.trim();
    let v = v.split_once(':').map_or(v, |(_, rest)| rest);
    let v = v.rsplit_once('-').map_or(v, |(up, _)| up);
    (!v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '+'))
        .then(|| v.to_owned())
}

/// The SHA-256 a `.dsc` file gives for `name`.
fn dsc_sha256(dsc: &str, name: &str) -> Option<String> {
    let section = dsc.split("Checksums-Sha256:").nth(1)?;
    section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?, f.nth(1)?))
        })
        .find(|(_, file)| *file == name)
        .map(|(sum, _)| sum.to_owned())
        .filter(|sum| sum.len() == 64 && sum.chars().all(|c| c.is_ascii_hexdigit()))
}

fn sha256(file: &Path) -> Result<String, Fail> {
    if !have("sha256sum") {
        return Err(Fail::new("ffmpeg-minimal: sha256sum (coreutils) is needed"));
    }
    let out = Cmd::new("sha256sum").arg(file).output()?;
    Ok(out.split_whitespace().next().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configure_arguments_are_single_words() {
        // The long lists are split over lines with `\` continuations, which drop the line break
        // and the indentation: each argument must still be one word.
        for a in CONFIGURE {
            assert!(a.starts_with("--") && !a.contains(char::is_whitespace), "{a}");
            assert!(!a.contains(",,") && !a.ends_with(','), "{a}");
        }
        // What voxwire-ffmpeg's jobs need is in: Opus out through libopus into Ogg, PCM out,
        // resampling, JSON probing (ffprobe).
        let all = CONFIGURE.concat();
        for needed in ["libopus", "muxer=ogg", "s16le", "swresample", "ffprobe", "pipe"] {
            assert!(all.contains(needed), "{needed}");
        }
    }

    #[test]
    fn the_stamp_changes_with_the_settings() {
        let stamp = stamp(VERSION, SHA256);
        assert!(stamp.starts_with(VERSION));
        assert!(stamp.ends_with(&settings()));
        assert!(settings().contains("--enable-libopus"));
        assert_eq!(SHA256.len(), 64);
    }

    #[test]
    fn debian_versions_and_source_checksums() {
        assert_eq!(upstream_version("7:5.1.9-0+deb12u1").as_deref(), Some("5.1.9"));
        assert_eq!(upstream_version("6.1.1-3ubuntu5\n").as_deref(), Some("6.1.1"));
        assert_eq!(upstream_version("5.1.2").as_deref(), Some("5.1.2"));
        assert_eq!(upstream_version("").as_deref(), None);
        assert_eq!(upstream_version("7:../../x-1").as_deref(), None);
        let dsc = "Format: 3.0 (quilt)\nChecksums-Sha1:\n aa 1 ffmpeg_5.1.9.orig.tar.xz\n\
                   Checksums-Sha256:\n d9b593bb2ba93d4b50f74177e0cdcd41747e708596367deed0c30348a71dd176 \
                   10034840 ffmpeg_5.1.9.orig.tar.xz\n 71b2 53444 ffmpeg_5.1.9-0+deb12u1.debian.tar.xz\n\
                   Files:\n x 1 ffmpeg_5.1.9.orig.tar.xz\n";
        assert_eq!(dsc_sha256(dsc, "ffmpeg_5.1.9.orig.tar.xz").as_deref(), Some(SHA256));
        // Only a well-formed SHA-256 of the named file counts.
        assert_eq!(dsc_sha256(dsc, "ffmpeg_5.1.9-0+deb12u1.debian.tar.xz"), None);
        assert_eq!(dsc_sha256(dsc, "ffmpeg_6.0.orig.tar.xz"), None);
    }
}
