/**
 * What a board or index call cost in SQLite (statements, rows read, rows written: the cursors' own
 * counters), added up over a call's segments and sent as the x-board-cost header.
 */
import { BOARD_COST_HEADER } from '../../protocol/job.js';

/** What one board call cost in SQLite: statements run, rows read and written (cursor counters). */
export interface BoardCost {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

/** A board call's cost as a response header (BOARD_COST_HEADER). */
export const boardCostHeader = (c: BoardCost) => ({
  [BOARD_COST_HEADER]: `statements=${c.statements}; rows-read=${c.rowsRead}; rows-written=${c.rowsWritten}`,
});

/** The cost between two readings of a call's counter. */
export const costSince = (start: BoardCost, now: BoardCost): BoardCost => ({
  statements: now.statements - start.statements,
  rowsRead: now.rowsRead - start.rowsRead,
  rowsWritten: now.rowsWritten - start.rowsWritten,
});

/** Adds two calls' costs (a lease is the index's and the board's). */
export const addCost = (a: BoardCost, b: BoardCost): BoardCost => ({
  statements: a.statements + b.statements,
  rowsRead: a.rowsRead + b.rowsRead,
  rowsWritten: a.rowsWritten + b.rowsWritten,
});
