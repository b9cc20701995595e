// Typings for the image capability (lib/images). Re-exported by the package's index.d.ts.
import type { TaskOptions } from '../cpu/types'
import type { ExtractOptions, ResizeOptions as NativeResizeOptions, TransformOptions as NativeTransformOptions, Colour } from '../../napi/binding'

/** Generated from the Rust sources (binding.d.ts), documented there. */
export type { ExtractOptions, Colour }

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

/** `transformImage`'s `resize` (field docs in binding.d.ts). */
export interface ResizeOptions extends Omit<NativeResizeOptions, 'fit' | 'kernel' | 'position'> {
  fit?: 'cover' | 'contain' | 'fill' | 'inside' | 'outside'
  kernel?: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos3'
  position?: 'centre' | 'center' | 'top' | 'right top' | 'right' | 'right bottom' | 'bottom' | 'left bottom' | 'left' | 'left top'
    | 'north' | 'northeast' | 'east' | 'southeast' | 'south' | 'southwest' | 'west' | 'northwest'
}

/** Options for `transformImage` (field docs in binding.d.ts) and the CPU pool's task options. */
export interface TransformImageOptions extends TaskOptions, Omit<NativeTransformOptions, 'resize' | 'rotate' | 'format'> {
  resize?: ResizeOptions
  rotate?: 'auto' | 0 | 90 | 180 | 270
  format?: 'jpeg' | 'png' | 'webp'
  /** Resolve with `{ data, info }` instead of the bytes alone. Default: `false`. */
  info?: boolean
}

/** What `transformImage` made, with `info: true`. */
export interface TransformedInfo {
  format: 'jpeg' | 'png' | 'webp'
  width: number
  height: number
  /** 3, or 4 with alpha (JPEG: always 3). */
  channels: number
  /** Bytes of `data`. */
  size: number
}

/**
 * Decodes an image on the CPU pool, then extracts, converts to sRGB (from an embedded ICC
 * profile), resizes, turns upright (EXIF), crops or places, and encodes it; nothing in between
 * crosses to JavaScript. EXIF and the profile are stripped unless `keepMetadata` (then kept, and
 * the pixels left in the profile's colour space). Rejects with
 * `ERR_OFFLOAD_UNSUPPORTED_FORMAT`, `ERR_OFFLOAD_CORRUPT_INPUT`, `ERR_OFFLOAD_IMAGE_TOO_LARGE`
 * (past `maxPixels`, before decoding) or Node's codes for bad options.
 */
export declare function transformImage(input: ArrayBufferView | ArrayBuffer, options: TransformImageOptions & { info: true }): Promise<{ data: Buffer, info: TransformedInfo }>
export declare function transformImage(input: ArrayBufferView | ArrayBuffer, options?: TransformImageOptions): Promise<Buffer>
