/** Chart.js with only the parts the widgets and the dashboard draw (tree-shaken). */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
} from 'chart.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
);
Chart.defaults.animation = false;
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

export { Chart };
export const PALETTE = [
  '#3461c1',
  '#d9480f',
  '#2b8a3e',
  '#862e9c',
  '#e67700',
  '#0b7285',
  '#c2255c',
  '#5c940d',
  '#364fc7',
  '#495057',
];

/**
 * Chart text and grid colours from the theme of `el` (the CSS custom properties the widgets and the
 * embeds' dark theme set): Chart.js draws on a canvas, which does not inherit CSS colours, and its
 * defaults (#666 text, 10% black grid) are unreadable and invisible on a dark background.
 */
export function themeColors(el: Element): { text: string; muted: string; grid: string } {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--faultlines-fg', '#1d2433'),
    muted: v('--faultlines-muted', '#5b6475'),
    grid: v('--faultlines-grid', v('--faultlines-border', '#d8dde6')),
  };
}
