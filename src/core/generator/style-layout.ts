/**
 * The StyleSpace layout: S is the concatenation of the style vectors of every modulated layer of
 * the synthesis network, in execution order (per block: conv0, conv1, toRGB; the 4x4 block has no
 * conv0). A style vector has one entry per INPUT channel of its layer, except the paint layer's
 * (paint.ts), last when there is one: its 6 dims are the colour pair itself.
 */
import { synthesisChannels, type GeneratorArchitecture } from './architecture.js';
import { PAINT_STYLE_DIMS } from './paint-dims.js';

type StyleLayerKind = 'conv' | 'torgb' | 'paint';

export interface StyleLayer {
  /** e.g. `b8.conv0`, `b32.torgb`. */
  name: string;
  kind: StyleLayerKind;
  /** Resolution the layer works at. */
  resolution: number;
  /** Offset of the layer's first style dim in S. */
  offset: number;
  /** Style dims of the layer (= its input channels; the paint layer's: the colour pair). */
  channels: number;
  /** Output channels of the layer. */
  outChannels: number;
  /** Whether the layer upsamples its input first (conv0 of blocks above 4x4). */
  up: boolean;
}

export interface StyleLayout {
  layers: StyleLayer[];
  /** Total size of S. */
  size: number;
}

/** A StyleSpace dim addressed by layer name and channel. */
export interface StyleDim {
  layer: string;
  channel: number;
}

export function buildStyleLayout(arch: GeneratorArchitecture): StyleLayout {
  const layers: StyleLayer[] = [];
  let offset = 0;
  const add = (l: Omit<StyleLayer, 'offset'>) => {
    layers.push({ ...l, offset });
    offset += l.channels;
  };
  arch.resolutions.forEach((res, i) => {
    const cout = arch.channels[i];
    if (i > 0)
      add({
        name: `b${res}.conv0`,
        kind: 'conv',
        resolution: res,
        channels: arch.channels[i - 1],
        outChannels: cout,
        up: true,
      });
    add({ name: `b${res}.conv1`, kind: 'conv', resolution: res, channels: cout, outChannels: cout, up: false });
    add({
      name: `b${res}.torgb`,
      kind: 'torgb',
      resolution: res,
      channels: cout,
      outChannels: synthesisChannels(arch),
      up: false,
    });
  });
  if (arch.paint) {
    const res = arch.resolutions[arch.resolutions.length - 1];
    add({
      name: 'paint',
      kind: 'paint',
      resolution: res,
      channels: PAINT_STYLE_DIMS,
      outChannels: arch.imageChannels,
      up: false,
    });
  }
  return { layers, size: offset };
}

/** Flat index in S of {layer, channel}. */
export function styleIndex(layout: StyleLayout, dim: StyleDim): number {
  const l = layout.layers.find((x) => x.name === dim.layer);
  if (l === undefined) throw new RangeError(`no style layer "${dim.layer}"`);
  if (!Number.isInteger(dim.channel) || dim.channel < 0 || dim.channel >= l.channels) {
    throw new RangeError(`channel ${dim.channel} outside [0, ${l.channels}) of ${dim.layer}`);
  }
  return l.offset + dim.channel;
}

/** {layer, channel} of flat index `index` in S. */
export function styleDim(layout: StyleLayout, index: number): StyleDim {
  if (!Number.isInteger(index) || index < 0 || index >= layout.size) {
    throw new RangeError(`style index ${index} outside [0, ${layout.size})`);
  }
  for (const l of layout.layers) {
    if (index < l.offset + l.channels) return { layer: l.name, channel: index - l.offset };
  }
  throw new RangeError(`style index ${index} not found`);
}

/** Human-readable name of a dim, e.g. `b16.conv1:7`. */
export function styleDimName(layout: StyleLayout, index: number): string {
  const d = styleDim(layout, index);
  return `${d.layer}:${d.channel}`;
}
