/**
 * The paint layer's sizes (paint.ts), apart from the layer itself: the style layout and the
 * architecture checks need them, and those are imported by the edge worker's routes at start-up,
 * where tfjs (which paint.ts imports) must not load (test/edge-bundle-split.test.ts).
 */

/** Entries of z that draw the colour pair (the last ones). */
export const PAINT_Z_DIMS = 1;
/** StyleSpace dims of the paint layer: foreground rgb, background rgb. */
export const PAINT_STYLE_DIMS = 6;
