// Typings for the image capability (lib/images). Re-exported by the package's index.d.ts.
import type { TaskOptions } from '../cpu/types'

/** What `imageInfo` reads from an image's headers. */
export interface ImageInfo {
  /** The container, recognised by its signature. */
  format: 'jpeg' | 'png' | 'webp' | 'gif'
  /** Width as stored, before orientation (orientations 5–8 swap width and height on display). */
  width: number
  /** Height as stored, before orientation. */
  height: number
  /** EXIF orientation, 1–8; 1 when there is none. */
  orientation: number
  /** An alpha channel, a PNG `tRNS` chunk or a transparent GIF colour. */
  hasAlpha: boolean
  /** Samples per pixel, alpha included (CMYK: 4). */
  channels: number
  /** Colour space as stored: `'srgb'`, `'b-w'` (grey) or `'cmyk'`. */
  space: 'srgb' | 'b-w' | 'cmyk'
  /** Bits per sample as stored (8 for JPEG, WebP and GIF; 1–16 for PNG). */
  bitsPerSample: number
  /** A progressive JPEG or an interlaced PNG. */
  isProgressive: boolean
  /** An embedded ICC profile. */
  hasProfile: boolean
  /** An EXIF block. */
  hasExif: boolean
}

/**
 * Reads an image's headers on the CPU pool, without decoding pixels. Rejects with
 * `ERR_OFFLOAD_UNSUPPORTED_FORMAT` for anything but JPEG, PNG, WebP and GIF, and
 * `ERR_OFFLOAD_CORRUPT_INPUT` for headers that do not parse.
 */
export declare function imageInfo(input: ArrayBufferView | ArrayBuffer, options?: TaskOptions): Promise<ImageInfo>
