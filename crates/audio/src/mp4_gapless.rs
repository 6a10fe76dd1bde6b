//! Gapless information for MP4/M4A files: the edit list (`elst`, read with Mozilla's
//! `mp4parse`) and Apple's `iTunSMPB` tag. Symphonia 0.6 reads neither into its packet trims.

use std::io::Read;

use crate::mono::Trim;

/// Encoder delay and valid length from the first audio track's edit list, in frames at
/// `sample_rate`. `None` when the file has no usable edit list or cannot be parsed.
pub(crate) fn edit_list_trim(reader: &mut impl Read, sample_rate: u32) -> Option<Trim> {
    let context = match mp4parse::read_mp4(reader) {
        Ok(context) => context,
        Err(err) => {
            tracing::debug!("mp4parse could not read the edit list: {err:?}");
            return None;
        }
    };
    let movie_timescale = context.timescale?.0;
    let track = context
        .tracks
        .iter()
        .find(|t| t.track_type == mp4parse::TrackType::Audio)?;
    let media_time = track.media_time?.0;
    let track_timescale = track.timescale?.0;
    if track_timescale == 0 || movie_timescale == 0 {
        return None;
    }
    let rate = u128::from(sample_rate);
    let skip_frames = rescale(u128::from(media_time) * rate, u128::from(track_timescale));
    // A zero segment duration conventionally means "to the end of the media".
    let valid_frames = track
        .edited_duration
        .map(|d| d.0)
        .filter(|&d| d > 0)
        .map(|d| rescale(u128::from(d) * rate, u128::from(movie_timescale)));
    Some(Trim {
        skip_frames,
        valid_frames,
    })
}

/// `numerator / denominator` rounded to nearest, saturating at `u64::MAX`.
fn rescale(numerator: u128, denominator: u128) -> u64 {
    u64::try_from((numerator + denominator / 2) / denominator).unwrap_or(u64::MAX)
}

/// Parses iTunes' `iTunSMPB` value: `" 00000000 PPPPPPPP EEEEEEEE NNNNNNNNNNNNNNNN ..."`
/// (hex fields: reserved, priming frames, padding frames, valid frame count).
pub(crate) fn parse_itunsmpb(value: &str) -> Option<Trim> {
    let mut fields = value.split_whitespace().map(|f| u64::from_str_radix(f, 16));
    let _reserved = fields.next()?.ok()?;
    let priming = fields.next()?.ok()?;
    let _padding = fields.next()?.ok()?;
    let valid = fields.next()?.ok()?;
    Some(Trim {
        skip_frames: priming,
        valid_frames: (valid > 0).then_some(valid),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunsmpb_fields_are_hex() {
        let trim = parse_itunsmpb(
            " 00000000 00000840 000001CA 00000000003F31F6 00000000 00000000 00000000 00000000",
        )
        .unwrap();
        assert_eq!(trim.skip_frames, 0x840);
        assert_eq!(trim.valid_frames, Some(0x3F31F6));
        assert_eq!(parse_itunsmpb("garbage"), None);
        assert_eq!(parse_itunsmpb(" 0 10 zz 5"), None);
    }

    #[test]
    fn rescale_rounds_to_nearest() {
        assert_eq!(rescale(6850 * 44100, 1000), 302_085);
        assert_eq!(rescale(3, 2), 2);
        assert_eq!(rescale(u128::MAX / 2, 1), u64::MAX);
    }
}
