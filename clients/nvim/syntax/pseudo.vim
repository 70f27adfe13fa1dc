" Pseudocode as Ponder reads it: keywords in English and Russian, any case.
if exists('b:current_syntax')
  finish
endif
syntax case ignore
syntax keyword pseudoDefine FUNCTION PROCEDURE ALGORITHM FUNC DEF CONST ФУНКЦИЯ ПРОЦЕДУРА АЛГОРИТМ КОНСТ
syntax keyword pseudoEnd END КОНЕЦ ФУНКЦИИ ПРОЦЕДУРЫ
syntax keyword pseudoConditional IF THEN ELSE ELSIF SWITCH CASE ЕСЛИ ТО ИНАЧЕ ВЫБОР
syntax keyword pseudoRepeat WHILE FOR EACH IN DO REPEAT UNTIL LOOP ПОКА ДЛЯ КАЖДОГО ИЗ ЦИКЛ ПОВТОРЯТЬ ДО
syntax keyword pseudoStatement RETURN BREAK CONTINUE TRY CATCH RAISE ВЕРНУТЬ ПРЕРВАТЬ ПРОДОЛЖИТЬ
syntax keyword pseudoOperator AND OR NOT И ИЛИ НЕ
syntax keyword pseudoBoolean TRUE FALSE NULL NIL ИСТИНА ЛОЖЬ ПУСТО
syntax match pseudoNumber '\<\d\+\(\.\d\+\)\?\>'
syntax region pseudoString start=+"+ skip=+\\"+ end=+"+ oneline
syntax match pseudoComment '//.*$' contains=@Spell
highlight default link pseudoDefine Keyword
highlight default link pseudoEnd Keyword
highlight default link pseudoConditional Conditional
highlight default link pseudoRepeat Repeat
highlight default link pseudoStatement Statement
highlight default link pseudoOperator Operator
highlight default link pseudoBoolean Boolean
highlight default link pseudoNumber Number
highlight default link pseudoString String
highlight default link pseudoComment Comment
let b:current_syntax = 'pseudo'
