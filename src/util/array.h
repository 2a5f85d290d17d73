/*
 * array.h — ARRAY_SIZE(a): the number of elements of the array a (an array, not a pointer: of a
 * pointer it would give a wrong answer, so use it only on arrays declared in view).
 */
#ifndef ARRAY_H
#define ARRAY_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
